"""The product's composition root: the ``kuaijian`` command line, the demo and its child processes.

It may import every package; nothing imports it. ``kuaijian gateway run`` checks the config and
then becomes ``python -m gateway run``, so a running daemon never carries this package.
"""
