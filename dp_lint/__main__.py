from dp_lint.cli import main

main()
