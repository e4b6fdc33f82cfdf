/* Empty unit: lets the shim define the static library the worker names in link_whole. */
typedef int parley_mediasoup_shim_unused;
