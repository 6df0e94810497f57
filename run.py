"""Command-line entry: ``python run.py --help`` (the same CLI as the ``etscap`` command)."""

from model.cli import main

if __name__ == "__main__":
    main()
