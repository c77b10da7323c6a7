"""Finished studies: measurements that decided something once and are kept to be re-run, not
run by ``make bench`` (see ``bench/studies/README.md``)."""
