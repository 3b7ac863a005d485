"""What lpack puts where the Lambda Python runtime has ``/var/runtime``: the modules the managed
runtime ships that are not on PyPI under the same use (only ``snapshot_restore_py`` so far).

The bootstrap serves these to the function after its package and layers, as Lambda does, so a
package that bundles its own copy imports that one. Each module runs under the function's
interpreter (standard library only, Python 3.7 syntax) and is never imported by lpack itself.
"""
