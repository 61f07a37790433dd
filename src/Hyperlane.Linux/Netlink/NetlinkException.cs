namespace Hyperlane.Linux.Netlink;

/// <summary>
/// The kernel refused a netlink request: names the request (e.g. "RTM_NEWQDISC ingress on ifindex 7"),
/// the errno (<see cref="LinuxException.Error"/>) and the kernel's extended-ack message when it sent one.
/// </summary>
public class NetlinkException : LinuxException
{
    public NetlinkException(string request, Errno error, string? kernelMessage)
        : base(request, error)
    {
        Request = request;
        KernelMessage = string.IsNullOrEmpty(kernelMessage) ? null : kernelMessage;
    }

    public NetlinkException()
        : this("netlink request", Errno.None, null)
    {
    }

    public NetlinkException(string message)
        : base(message)
    {
        Request = string.Empty;
    }

    public NetlinkException(string message, Exception innerException)
        : base(message, innerException)
    {
        Request = string.Empty;
    }

    /// <summary>The request that failed, e.g. "RTM_NEWTFILTER u32 on ifindex 7".</summary>
    public string Request { get; }

    /// <summary>The kernel's extended-ack text (NLMSGERR_ATTR_MSG), when it sent one.</summary>
    public string? KernelMessage { get; }

    /// <summary>"{request} failed: {errno} ({strerror})[: kernel says: {message}]".</summary>
    public override string Message => KernelMessage is null ? base.Message : $"{base.Message}: kernel says: {KernelMessage}";
}
