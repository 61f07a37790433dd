namespace Hyperlane.Cli.Doctor;

/// <summary>One line of the doctor report: what was checked, the verdict, what was found and what to do.</summary>
/// <param name="Id">Stable identifier for scripts, e.g. "hypervisor", "netvsc:eth1", "kernel:cls_u32".</param>
/// <param name="Title">Short label, e.g. "netvsc eth1".</param>
/// <param name="Status">The verdict.</param>
/// <param name="Detail">What was found, in one line.</param>
/// <param name="Hint">What it means or what to do, in one line.</param>
public sealed record DoctorCheck(string Id, string Title, DoctorStatus Status, string Detail, string Hint);
