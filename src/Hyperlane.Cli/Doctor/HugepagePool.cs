namespace Hyperlane.Cli.Doctor;

/// <summary>One hugepage size from /sys/kernel/mm/hugepages/hugepages-&lt;N&gt;kB.</summary>
/// <param name="SizeKiB">Page size in KiB (2048, 1048576).</param>
/// <param name="Present">Whether the kernel offers this size at all.</param>
/// <param name="Reserved">nr_hugepages.</param>
/// <param name="Free">free_hugepages.</param>
public sealed record HugepagePool(long SizeKiB, bool Present, long Reserved, long Free)
{
    /// <summary>"2 MiB" or "1 GiB".</summary>
    public string SizeText => SizeKiB >= 1024 * 1024 ? $"{SizeKiB / (1024 * 1024)} GiB" : SizeKiB >= 1024 ? $"{SizeKiB / 1024} MiB" : $"{SizeKiB} KiB";
}
