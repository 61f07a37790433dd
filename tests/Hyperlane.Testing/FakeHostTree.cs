using System.Globalization;

namespace Hyperlane.Testing;

/// <summary>
/// A host tree in a temporary directory, laid out as the real sysfs is: <c>/sys/class/net/N</c> is a
/// relative link into <c>/sys/devices/...</c>, whose <c>device</c>, <c>device/driver</c> and
/// <c>device/subsystem</c> are relative links, so every read resolves inside the tree. It marks names as
/// NetVSC netdevs (VMBus class_id, type 1, driver hv_netvsc) or PCI VFs (subsystem pci, a PCI address,
/// driver mlx5_core) and never touches the real /sys. Deleted on dispose.
/// </summary>
public sealed class FakeHostTree : IDisposable
{
    /// <summary>The VMBus class id of a synthetic network device, as Hyper-V's sysfs shows it.</summary>
    public const string NetvscClassId = "{f8615163-df3e-46c5-913f-f2d2f965ed0e}";

    public const string VmbusDevicesDir = "/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00";
    private static int vmbusCounter;

    public FakeHostTree()
    {
        Root = Path.Combine(Path.GetTempPath(), $"hl-sysfs-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root + "/sys/class/net");
    }

    public string Root { get; }

    /// <summary>Where <paramref name="absolute"/> lives in the tree.</summary>
    public string P(string absolute) => Root + absolute;

    public void Write(string absolute, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(P(absolute))!);
        File.WriteAllText(P(absolute), content);
    }

    public void Mkdir(string absolute) => Directory.CreateDirectory(P(absolute));

    /// <summary>A relative symbolic link at <paramref name="absolute"/> to <paramref name="targetAbsolute"/> (which need not exist).</summary>
    public void Link(string absolute, string targetAbsolute)
    {
        string at = P(absolute);
        Directory.CreateDirectory(Path.GetDirectoryName(at)!);
        if (File.Exists(at) || Directory.Exists(at) || new FileInfo(at).LinkTarget is not null)
        {
            File.Delete(at);
        }

        // As sysfs writes them: up to a common ancestor, then down by name ("../../../0002:00:02.0", never "../..").
        string target = P(targetAbsolute);
        string up = Path.GetRelativePath(Path.GetDirectoryName(at)!, Path.GetDirectoryName(target)!);
        File.CreateSymbolicLink(at, up == "." ? Path.GetFileName(target) : up + "/" + Path.GetFileName(target));
    }

    /// <summary>A raw symbolic link with exactly <paramref name="target"/> as its text.</summary>
    public void RawLink(string absolute, string target)
    {
        string at = P(absolute);
        Directory.CreateDirectory(Path.GetDirectoryName(at)!);
        File.CreateSymbolicLink(at, target);
    }

    public static string NewVmbusId()
    {
        int n = Interlocked.Increment(ref vmbusCounter);
        return string.Create(CultureInfo.InvariantCulture, $"{Guid.NewGuid().ToString()[..24]}{n:x12}");
    }

    /// <summary>
    /// Marks <paramref name="ifname"/> as a NetVSC netdev: a VMBus device with <paramref name="classId"/>,
    /// bound to <paramref name="driver"/> (null: unbound), with a net/NAME whose type is <paramref name="type"/>.
    /// Returns the VMBus device id.
    /// </summary>
    public string MarkNetvsc(string ifname, string? driver = "hv_netvsc", string classId = NetvscClassId, string type = "1")
    {
        string id = NewVmbusId();
        string dev = $"{VmbusDevicesDir}/{id}";
        Write(dev + "/class_id", classId + "\n");
        Write(dev + "/device_id", "{" + id + "}\n");
        Link(dev + "/subsystem", "/sys/bus/vmbus");
        Mkdir("/sys/bus/vmbus/devices");
        Link($"/sys/bus/vmbus/devices/{id}", dev);
        if (driver is not null)
        {
            Mkdir($"/sys/bus/vmbus/drivers/{driver}");
            Link(dev + "/driver", $"/sys/bus/vmbus/drivers/{driver}");
        }

        string net = $"{dev}/net/{ifname}";
        Write(net + "/type", type + "\n");
        Link(net + "/device", dev);
        Link($"/sys/class/net/{ifname}", net);
        return id;
    }

    /// <summary>A VMBus network device with no netdev (e.g. bound to uio_hv_generic). Returns its id.</summary>
    public string AddVmbusNetDevice(string? driver)
    {
        string id = NewVmbusId();
        string dev = $"{VmbusDevicesDir}/{id}";
        Write(dev + "/class_id", NetvscClassId + "\n");
        Mkdir("/sys/bus/vmbus/devices");
        Link($"/sys/bus/vmbus/devices/{id}", dev);
        if (driver is not null)
        {
            Mkdir($"/sys/bus/vmbus/drivers/{driver}");
            Link(dev + "/driver", $"/sys/bus/vmbus/drivers/{driver}");
        }

        return id;
    }

    /// <summary>Marks <paramref name="ifname"/> as a PCI function at <paramref name="pciAddress"/> bound to <paramref name="driver"/> (null: unbound).</summary>
    public void MarkPciVf(string ifname, string pciAddress = "0002:00:02.0", string? driver = "mlx5_core")
    {
        string domain = pciAddress[..pciAddress.IndexOf(':', StringComparison.Ordinal)];
        string dev = $"/sys/devices/pci{domain}:00/{pciAddress}";
        Write(dev + "/vendor", "0x15b3\n");
        Link(dev + "/subsystem", "/sys/bus/pci");
        Mkdir("/sys/bus/pci/devices");
        if (driver is not null)
        {
            Mkdir($"/sys/bus/pci/drivers/{driver}");
            Link(dev + "/driver", $"/sys/bus/pci/drivers/{driver}");
        }

        string net = $"{dev}/net/{ifname}";
        Write(net + "/type", "1\n");
        Link(net + "/device", dev);
        Link($"/sys/class/net/{ifname}", net);
    }

    /// <summary>A virtual netdev (veth, bridge): /sys/devices/virtual/net/NAME, no device link.</summary>
    public void AddVirtual(string ifname)
    {
        string net = $"/sys/devices/virtual/net/{ifname}";
        Write(net + "/type", "1\n");
        Link($"/sys/class/net/{ifname}", net);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is harmless.
        }
    }
}
