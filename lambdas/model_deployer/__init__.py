"""The model deployer: the one role that puts model versions behind endpoints, and only versions the gate cleared."""
