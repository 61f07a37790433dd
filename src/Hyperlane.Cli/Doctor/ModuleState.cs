namespace Hyperlane.Cli.Doctor;

/// <summary>Where a kernel feature stands.</summary>
public enum ModuleState
{
    /// <summary>Compiled into the kernel.</summary>
    Builtin,

    /// <summary>A module that is loaded now.</summary>
    Loaded,

    /// <summary>A module that is installed and loads on first use (tc requests it).</summary>
    Available,

    /// <summary>Neither built in nor installed.</summary>
    Missing,

    /// <summary>The host gives no way to tell (no /lib/modules, no kernel config).</summary>
    Unknown,
}
