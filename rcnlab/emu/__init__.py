"""The emulation: kernel and clock, links, journal, and the network that holds the devices."""
