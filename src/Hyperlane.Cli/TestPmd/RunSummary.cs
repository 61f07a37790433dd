using System.Text.Json;

namespace Hyperlane.Cli.TestPmd;

/// <summary>The --summary-json document: final per-port packets, bytes, drops and Mpps.</summary>
public sealed record RunSummary(string ForwardMode, double DurationSeconds, IReadOnlyList<int> Lcores, int Burst, string Memory, IReadOnlyList<PortResult> Ports)
{
    public void Write(string path)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("forwardMode", ForwardMode);
        w.WriteNumber("durationSeconds", Math.Round(DurationSeconds, 3));
        w.WriteStartArray("lcores");
        foreach (int l in Lcores)
        {
            w.WriteNumberValue(l);
        }

        w.WriteEndArray();
        w.WriteNumber("burst", Burst);
        w.WriteString("memory", Memory);
        w.WriteStartArray("ports");
        foreach (var p in Ports)
        {
            w.WriteStartObject();
            w.WriteNumber("port", p.Port);
            w.WriteString("name", p.Name);
            w.WriteNumber("rxPackets", p.RxPackets);
            w.WriteNumber("txPackets", p.TxPackets);
            w.WriteNumber("rxBytes", p.RxBytes);
            w.WriteNumber("txBytes", p.TxBytes);
            w.WriteNumber("rxMissed", p.RxMissed);
            w.WriteNumber("rxErrors", p.RxErrors);
            w.WriteNumber("rxNoMbuf", p.RxNoMbuf);
            w.WriteNumber("txErrors", p.TxErrors);
            w.WriteNumber("fwdDrops", p.FwdDrops);
            w.WriteNumber("rxMpps", Math.Round(p.RxMpps, 4));
            w.WriteNumber("txMpps", Math.Round(p.TxMpps, 4));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("total");
        w.WriteNumber("rxPackets", Ports.Sum(p => p.RxPackets));
        w.WriteNumber("txPackets", Ports.Sum(p => p.TxPackets));
        w.WriteNumber("rxMpps", Math.Round(Ports.Sum(p => p.RxMpps), 4));
        w.WriteNumber("txMpps", Math.Round(Ports.Sum(p => p.TxMpps), 4));
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
