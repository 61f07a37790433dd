using Hyperlane.Linux;
using Hyperlane.Testing;

namespace Hyperlane.Net.VdevNetvsc.Tests;

/// <summary>The parsing pieces, without files or root.</summary>
public class SysfsFormatsTests
{
    [Theory]
    [InlineData("{f8615163-df3e-46c5-913f-f2d2f965ed0e}", true)]
    [InlineData("{F8615163-DF3E-46C5-913F-F2D2F965ED0E}", true)]
    [InlineData("{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}", true)]
    [InlineData("f8615163-df3e-46c5-913f-f2d2f965ed0e", false)]
    [InlineData("{f8615163-df3e-46c5-913f-f2d2f965ed0e", false)]
    [InlineData("{f8615163-df3e-46c5-913f-f2d2f965ed0g}", false)]
    [InlineData("{f8615163df3e-46c5-913f-f2d2f965ed0e0}", false)]
    [InlineData("{f8615163-df3e-46c5-913f-f2d2f965ed0e} ", false)]
    [InlineData("", false)]
    [InlineData("garbage", false)]
    [InlineData(null, false)]
    public void Braced_guid(string? text, bool expected) => Assert.Equal(expected, SysfsFormats.IsBracedGuid(text));

    [Theory]
    [InlineData("1", 1)]
    [InlineData("772", 772)]
    [InlineData("65535", 65535)]
    [InlineData("0", 0)]
    public void Arphrd_type_parses(string text, int expected)
    {
        Assert.True(SysfsFormats.TryParseArphrdType(text, out int type));
        Assert.Equal(expected, type);
    }

    [Theory]
    [InlineData("ether")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("0x1")]
    [InlineData("1 ")]
    [InlineData("65536")]
    [InlineData("123456")]
    [InlineData("")]
    [InlineData(null)]
    public void Arphrd_type_rejects(string? text) => Assert.False(SysfsFormats.TryParseArphrdType(text, out _));

    [Theory]
    [InlineData("0002:00:02.0", true)]
    [InlineData("0000:00:03.0", true)]
    [InlineData("7870:00:02.0", true)]
    [InlineData("c05b:00:1f.7", true)]
    [InlineData("00000001:00:02.0", true)]
    [InlineData("0002:00:02", false)]
    [InlineData("0002:00:20.0", false)]
    [InlineData("0002:00:02.8", false)]
    [InlineData("002:00:02.0", false)]
    [InlineData("000000001:00:02.0", false)]
    [InlineData("0002-00:02.0", false)]
    [InlineData("0002:0g:02.0", false)]
    [InlineData("0002:00:02.0.1", false)]
    [InlineData("pci", false)]
    [InlineData("virtio2", false)]
    [InlineData(null, false)]
    public void Pci_address(string? text, bool expected) => Assert.Equal(expected, SysfsFormats.IsPciAddress(text));

    [Theory]
    [InlineData("eth1", true)]
    [InlineData("enP2p0s2", true)]
    [InlineData("abcdefghijklmno", true)]
    [InlineData("abcdefghijklmnop", false)]
    [InlineData("", false)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("a:b", false)]
    [InlineData("a\nb", false)]
    [InlineData(null, false)]
    public void Interface_name(string? name, bool expected) => Assert.Equal(expected, SysfsFormats.IsInterfaceName(name));

    [Theory]
    [InlineData("../../../bus/pci", "pci")]
    [InlineData("../../../bus/vmbus/drivers/hv_netvsc/", "hv_netvsc")]
    [InlineData("0002:00:02.0", "0002:00:02.0")]
    [InlineData("/sys/devices/pci0002:00/0002:00:02.0", "0002:00:02.0")]
    [InlineData("/", "")]
    public void Link_basename(string target, string expected) => Assert.Equal(expected, SysfsTree.BaseName(target));

    [Fact]
    public void Printable_replaces_control_characters_and_caps_length()
    {
        Assert.Equal("a?b?", SysfsTree.Printable("a\nb\0"));
        string longText = new('x', 200);
        Assert.Equal(81, SysfsTree.Printable(longText).Length);
    }

    [Fact]
    public void Hyper_v_signature_from_cpuid_registers()
    {
        // "Micr" "osof" "t Hv" as little-endian EBX, ECX, EDX (what Hyper-V returns for leaf 0x40000000).
        Assert.Equal(Hypervisor.HyperVSignature, Hypervisor.SignatureFromRegisters(0x7263694D, 0x666F736F, 0x76482074));
        // "KVMKVMKVM\0\0\0": trailing NULs dropped.
        Assert.Equal("KVMKVMKVM", Hypervisor.SignatureFromRegisters(0x4B4D564B, 0x564B4D56, 0x0000004D));
        // Non-printable bytes cannot inject text.
        Assert.Equal("?ABC", Hypervisor.SignatureFromRegisters(0x43424107, 0, 0));
        Assert.Equal(string.Empty, Hypervisor.SignatureFromRegisters(0, 0, 0));
    }

    [Fact]
    public void Hypervisor_facts_are_reported_separately()
    {
        var kvmWithHv = new Hypervisor(true, true, Hypervisor.HyperVSignature, VmbusPresent: false);
        Assert.True(kvmWithHv.CpuidSaysHyperV);
        Assert.True(kvmWithHv.IsHyperV);
        var arm64Guest = new Hypervisor(false, false, null, VmbusPresent: true);
        Assert.False(arm64Guest.CpuidSaysHyperV);
        Assert.True(arm64Guest.IsHyperV);
        var bare = new Hypervisor(true, false, null, false);
        Assert.False(bare.IsHyperV);
    }

    [Fact]
    public void Hypervisor_detect_reads_vmbus_under_the_given_root()
    {
        using var tree = new FakeHostTree();
        Assert.False(Hypervisor.Detect(tree.Root).VmbusPresent);
        tree.Mkdir("/sys/bus/vmbus");
        Hypervisor h = Hypervisor.Detect(tree.Root);
        Assert.True(h.VmbusPresent);
        Assert.True(h.IsHyperV);
        Assert.Equal(System.Runtime.Intrinsics.X86.X86Base.IsSupported, h.CpuidAvailable);
        if (!h.HypervisorBit)
        {
            Assert.Null(h.CpuidVendor);
        }
    }
}
