"""Scale-out backends for ``simulate``: a Dask cluster (``dask_backend``) and NVIDIA GPUs (``cuda_backend`` with
its kernels in ``cuda_kernels``). Each is imported by name when a run asks for it."""
