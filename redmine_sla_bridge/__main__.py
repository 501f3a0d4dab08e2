from redmine_sla_bridge.entrypoints.cli import main

main()
