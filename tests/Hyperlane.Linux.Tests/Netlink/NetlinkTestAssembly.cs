// Netlink tests count sockets, time link events and push frames through veths on a shared 2-core
// machine: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
