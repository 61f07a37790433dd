namespace Hyperlane.Cli.Doctor;

/// <summary>One kernel feature Hyperlane relies on, and where it stands.</summary>
/// <param name="Module">The module name (cls_u32, act_mirred...).</param>
/// <param name="Purpose">What it is, e.g. "tc u32 classifier".</param>
/// <param name="State">Built in, loaded, available, missing or unknown.</param>
/// <param name="Evidence">Which file said so, e.g. "/sys/module/cls_u32/initstate" or "CONFIG_NET_CLS_U32=y in /proc/config.gz".</param>
public sealed record KernelFeature(string Module, string Purpose, ModuleState State, string Evidence)
{
    /// <summary>True when the feature can be used (built in, loaded or loadable).</summary>
    public bool IsUsable => State is ModuleState.Builtin or ModuleState.Loaded or ModuleState.Available;
}
