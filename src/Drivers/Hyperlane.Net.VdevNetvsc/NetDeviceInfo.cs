namespace Hyperlane.Net.VdevNetvsc;

/// <summary>
/// The sysfs facts about one netdevice (no netlink): its kind with a one-line <see cref="Reason"/>, and
/// the fields that go with it. Fields sysfs did not give are null; <see cref="DriverProblem"/> says why
/// <see cref="Driver"/> is null ("unbound", a broken link).
/// </summary>
/// <param name="Name">The netdevice name.</param>
/// <param name="Kind">What it is.</param>
/// <param name="Reason">Why it is that kind, for logs and <c>doctor</c> (e.g. "not a VMBus device: no device/class_id").</param>
/// <param name="ClassId">device/class_id as read, when it was a GUID.</param>
/// <param name="ArphrdType">type (ARPHRD_*), when it was read as a number.</param>
/// <param name="Driver">Basename of the device/driver link target (hv_netvsc, mlx5_core, mana...).</param>
/// <param name="DriverProblem">Why there is no driver name, when there is none.</param>
/// <param name="PciAddress">Basename of the device link for a PCI device, e.g. 0002:00:02.0.</param>
public sealed record NetDeviceInfo(
    string Name,
    NetDeviceKind Kind,
    string Reason,
    string? ClassId = null,
    int? ArphrdType = null,
    string? Driver = null,
    string? DriverProblem = null,
    string? PciAddress = null)
{
    /// <summary>The driver name, or "unknown (why)" for reports.</summary>
    public string DriverText => Driver ?? $"unknown ({DriverProblem ?? "no driver"})";
}
