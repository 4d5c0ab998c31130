fetch("config.json")
  .then((r) => r.json())
  .then(async (config) => {
    const devices = await (await fetch(`${config.apiUrl}/devices`)).json();
    document.getElementById("status").textContent = `${config.environment}: ${devices.length} devices`;
    for (const d of devices) {
      const li = document.createElement("li");
      li.textContent = `${d.name} (${d.status})`;
      document.getElementById("devices").appendChild(li);
    }
    const ws = new WebSocket(config.wsUrl);
    ws.onopen = () => ws.send("ping");
  });
