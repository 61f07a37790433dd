namespace Hyperlane.Cli.Doctor;

/// <summary>The verdict of one doctor check.</summary>
public enum DoctorStatus
{
    /// <summary>Ready as it is.</summary>
    Ok,

    /// <summary>A fact worth knowing; nothing to do.</summary>
    Info,

    /// <summary>Works, but not as well as it could, or something looks odd.</summary>
    Warn,

    /// <summary>Something Hyperlane needs is missing.</summary>
    Fail,
}
