import sys

from .cli import main, run

if getattr(sys.modules.get("__main__"), "__dict__", None) is globals():
    run()       # python -m ddkit: the process's own program, its standard streams safe for a closed pipe (cli.run)
else:
    main()      # run from other code (runpy): ends with SystemExit, as a click command does, its streams untouched
