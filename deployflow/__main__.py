from deployflow.cli.main import main

main()
