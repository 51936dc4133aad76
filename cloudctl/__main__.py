from cloudctl.cli.main import main

main()
