using System.Text.Encodings.Web;
using System.Text.Json;
using Hyperlane.Net.VdevNetvsc;

namespace Hyperlane.Cli.Doctor;

/// <summary>
/// The <c>--json</c> document (docs/doctor.md lists the fields). Written with <see cref="Utf8JsonWriter"/>
/// and explicit options, so property names are stable camelCase whatever the records are called.
/// </summary>
public static class DoctorJson
{
    public static void Write(DoctorReport report, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("root", report.Root);
        w.WriteString("kernelRelease", report.KernelRelease);

        w.WriteStartObject("hypervisor");
        w.WriteBoolean("hyperV", report.Hypervisor.IsHyperV);
        w.WriteBoolean("cpuidAvailable", report.Hypervisor.CpuidAvailable);
        w.WriteBoolean("hypervisorBit", report.Hypervisor.HypervisorBit);
        w.WriteString("cpuidVendor", report.Hypervisor.CpuidVendor);
        w.WriteBoolean("cpuidHyperV", report.Hypervisor.CpuidSaysHyperV);
        w.WriteBoolean("vmbus", report.Hypervisor.VmbusPresent);
        w.WriteEndObject();

        w.WriteString("scanError", report.ScanError);
        w.WriteStartArray("netvsc");
        foreach (NetvscInterface i in report.Scan?.Interfaces ?? [])
        {
            w.WriteStartObject();
            w.WriteString("name", i.Name);
            w.WriteNumber("ifindex", i.IfIndex);
            w.WriteString("mac", i.Mac.ToString());
            w.WriteBoolean("routed", i.IsRouted);
            w.WriteStartArray("addresses");
            foreach (string a in i.Addresses)
            {
                w.WriteStringValue(a);
            }

            w.WriteEndArray();
            w.WriteString("driver", i.Driver);
            w.WriteString("driverProblem", i.DriverProblem);
            w.WriteBoolean("selected", report.Selection?.Selected.Contains(i) == true);
            if (i.Vf is { } vf)
            {
                w.WriteStartObject("vf");
                w.WriteString("name", vf.Name);
                w.WriteNumber("ifindex", vf.IfIndex);
                w.WriteString("pciAddress", vf.PciAddress);
                w.WriteString("driver", vf.Driver);
                w.WriteString("driverProblem", vf.DriverProblem);
                w.WriteBoolean("enslaved", vf.IsEnslaved);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("vf");
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("skipped");
        foreach (SkippedInterface s in (IEnumerable<SkippedInterface>?)report.Selection?.Skipped ?? [])
        {
            WriteSkipped(w, s);
        }

        foreach (SkippedInterface s in report.Scan?.Skipped ?? [])
        {
            WriteSkipped(w, s);
        }

        w.WriteEndArray();

        w.WriteStartArray("vmbusNetworkDevices");
        foreach (VmbusNetDevice d in report.Scan?.VmbusDevices ?? [])
        {
            w.WriteStartObject();
            w.WriteString("id", d.Id);
            w.WriteString("driver", d.Driver);
            w.WriteString("netdev", d.NetDevice);
            w.WriteString("problem", d.Problem);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("hugepages");
        foreach (HugepagePool p in report.Hugepages)
        {
            w.WriteStartObject();
            w.WriteString("pageSize", p.SizeText);
            w.WriteNumber("pageSizeKiB", p.SizeKiB);
            w.WriteBoolean("present", p.Present);
            w.WriteNumber("reserved", p.Reserved);
            w.WriteNumber("free", p.Free);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartObject("tun");
        w.WriteBoolean("present", report.Tun.Present);
        w.WriteBoolean("openable", report.Tun.Openable);
        w.WriteString("error", report.Tun.Error);
        w.WriteEndObject();

        w.WriteStartObject("capabilities");
        w.WriteString("capEff", report.Capabilities.EffectiveHex);
        w.WriteBoolean("netAdmin", report.Capabilities.HasNetAdmin);
        w.WriteBoolean("netRaw", report.Capabilities.HasNetRaw);
        w.WriteString("problem", report.Capabilities.Problem);
        w.WriteEndObject();

        w.WriteStartArray("kernelFeatures");
        foreach (KernelFeature f in report.KernelFeatures)
        {
            w.WriteStartObject();
            w.WriteString("module", f.Module);
            w.WriteString("purpose", f.Purpose);
            w.WriteString("state", f.State.ToString().ToLowerInvariant());
            w.WriteBoolean("usable", f.IsUsable);
            w.WriteString("evidence", f.Evidence);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartObject("afXdp");
        w.WriteBoolean("supported", report.AfXdp.Supported);
        w.WriteString("error", report.AfXdp.Error);
        w.WriteEndObject();

        w.WriteStartObject("vdev");
        w.WriteStartArray("arguments");
        foreach (string a in report.VdevArguments)
        {
            w.WriteStringValue(a);
        }

        w.WriteEndArray();
        w.WriteString("text", report.VdevText);
        w.WriteEndObject();

        w.WriteStartArray("checks");
        foreach (DoctorCheck c in report.Checks)
        {
            w.WriteStartObject();
            w.WriteString("id", c.Id);
            w.WriteString("title", c.Title);
            w.WriteString("status", DoctorText.Name(c.Status));
            w.WriteString("detail", c.Detail);
            w.WriteString("hint", c.Hint);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartObject("summary");
        foreach (DoctorStatus s in new[] { DoctorStatus.Ok, DoctorStatus.Warn, DoctorStatus.Fail, DoctorStatus.Info })
        {
            w.WriteNumber(DoctorText.Name(s), report.Count(s));
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The document as a string (for a <see cref="TextWriter"/>).</summary>
    public static string ToJson(DoctorReport report)
    {
        using var stream = new MemoryStream();
        Write(report, stream);
        return System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private static void WriteSkipped(Utf8JsonWriter w, SkippedInterface s)
    {
        w.WriteStartObject();
        w.WriteString("name", s.Name);
        if (s.IfIndex is { } index)
        {
            w.WriteNumber("ifindex", index);
        }
        else
        {
            w.WriteNull("ifindex");
        }

        w.WriteString("kind", JsonNamingPolicy.CamelCase.ConvertName(s.Kind.ToString()));
        w.WriteString("reason", s.Reason);
        w.WriteEndObject();
    }
}
