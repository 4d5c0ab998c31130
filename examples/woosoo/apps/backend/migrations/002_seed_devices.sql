INSERT IGNORE INTO devices (name, status) VALUES ('tablet-01', 'online'), ('tablet-02', 'offline'), ('relay-01', 'online');
