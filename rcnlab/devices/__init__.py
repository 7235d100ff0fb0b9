"""The simulated devices: hosts, external storage, edge devices, core devices, management server."""
