// Every test here runs alone: each drives two ports, their vhost-user threads and busy loops on a machine with
// 2 cores, and virtio_user shares every shareable packet pool of the process with its backend (7 at most), so
// pools made by tests running beside it would crowd the memory table.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
