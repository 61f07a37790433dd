using System.Runtime.Intrinsics.X86;

namespace Hyperlane.Linux;

/// <summary>
/// What this machine says about the hypervisor under it, as two separate facts: the CPUID vendor
/// signature (leaf 0x40000000, what DPDK's <c>rte_hypervisor_get()</c> reads) and whether the VMBus bus
/// exists in sysfs (<c>/sys/bus/vmbus</c>, read through a host root). They disagree in real life: KVM with
/// Hyper-V enlightenments reports "Microsoft Hv" without a VMBus, and arm64 Hyper-V guests have a VMBus
/// but no CPUID.
/// </summary>
public sealed record Hypervisor(bool CpuidAvailable, bool HypervisorBit, string? CpuidVendor, bool VmbusPresent)
{
    /// <summary>The vendor signature Hyper-V puts in EBX, ECX, EDX of CPUID leaf 0x40000000.</summary>
    public const string HyperVSignature = "Microsoft Hv";

    /// <summary>The first hypervisor CPUID leaf (vendor signature in EBX, ECX, EDX).</summary>
    public const int VendorLeaf = 0x40000000;

    /// <summary>True when CPUID reports the Hyper-V vendor signature.</summary>
    public bool CpuidSaysHyperV => CpuidVendor == HyperVSignature;

    /// <summary>True when either fact points at Hyper-V: what auto-probing of vdev_netvsc keys on.</summary>
    public bool IsHyperV => CpuidSaysHyperV || VmbusPresent;

    /// <summary>Both facts for this CPU and the host tree under <paramref name="root"/> (default <see cref="HostFs.Root"/>).</summary>
    public static Hypervisor Detect(string? root = null)
    {
        (bool available, bool bit, string? vendor) = ReadCpuid();
        return new Hypervisor(available, bit, vendor, VmbusExists(root));
    }

    /// <summary>
    /// CPUID: whether the instruction is usable from .NET (x86/x64 only), whether leaf 1 ECX bit 31 ("running
    /// under a hypervisor") is set, and the leaf 0x40000000 vendor signature (null without the bit).
    /// </summary>
    public static (bool Available, bool HypervisorBit, string? Vendor) ReadCpuid()
    {
        if (!X86Base.IsSupported)
        {
            return (false, false, null);
        }

        (_, _, int ecx1, _) = X86Base.CpuId(1, 0);
        bool bit = (ecx1 & (1 << 31)) != 0;
        if (!bit)
        {
            return (true, false, null);
        }

        (_, int ebx, int ecx, int edx) = X86Base.CpuId(VendorLeaf, 0);
        return (true, true, SignatureFromRegisters(ebx, ecx, edx));
    }

    /// <summary>
    /// The 12-character signature held in EBX, ECX, EDX (little-endian bytes, in that order). Trailing NULs
    /// are dropped; other bytes outside printable ASCII become '?', so a hostile value cannot inject text.
    /// </summary>
    public static string SignatureFromRegisters(int ebx, int ecx, int edx)
    {
        Span<byte> bytes = stackalloc byte[12];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes, ebx);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes[4..], ecx);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes[8..], edx);
        int length = bytes.Length;
        while (length > 0 && bytes[length - 1] == 0)
        {
            length--;
        }

        Span<char> chars = stackalloc char[length];
        for (int i = 0; i < length; i++)
        {
            byte b = bytes[i];
            chars[i] = b is >= 0x20 and < 0x7F ? (char)b : '?';
        }

        return new string(chars);
    }

    /// <summary>Whether <c>/sys/bus/vmbus</c> is a directory under <paramref name="root"/> (default <see cref="HostFs.Root"/>).</summary>
    public static bool VmbusExists(string? root = null)
    {
        string r = string.IsNullOrEmpty(root) ? HostFs.Root : root.TrimEnd('/');
        return Directory.Exists((r.Length == 0 || r == "/" ? string.Empty : r) + "/sys/bus/vmbus");
    }
}
