"""`python -m tangstudio` is the same as the `tangstudio` command."""

from tangstudio.cli import main

if __name__ == "__main__":
    main()
