"""Storage engines for the state (see :mod:`ftops.state.backend`): ``file`` here; remote ones beside it."""
