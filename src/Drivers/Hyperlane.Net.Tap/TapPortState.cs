namespace Hyperlane.Net.Tap;

/// <summary>
/// What the control path tells the data path of a tap port: one flag, read once per burst. When the TAP or
/// its remote netdev is deleted the port's bursts return 0 (the fds may still be open, but the device is gone).
/// </summary>
internal sealed class TapPortState
{
    private volatile bool removed;

    public bool Removed => removed;

    public void MarkRemoved() => removed = true;
}
