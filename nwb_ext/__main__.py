"""``python -m ndx_glymphatic`` is the same as the ``glymph`` command."""

from ndx_glymphatic.cli import main

if __name__ == "__main__":
    main()
