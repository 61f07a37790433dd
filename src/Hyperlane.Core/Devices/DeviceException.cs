namespace Hyperlane.Core.Devices;

/// <summary>A device could not be probed or removed. The message names the device and why.</summary>
public class DeviceException : Exception
{
    public DeviceException(string deviceName, string reason, Exception? inner = null)
        : base($"{deviceName}: {reason}", inner)
    {
        DeviceName = deviceName;
    }

    public DeviceException()
    {
        DeviceName = string.Empty;
    }

    public DeviceException(string message)
        : base(message)
    {
        DeviceName = string.Empty;
    }

    public DeviceException(string message, Exception innerException)
        : base(message, innerException)
    {
        DeviceName = string.Empty;
    }

    public string DeviceName { get; }
}
