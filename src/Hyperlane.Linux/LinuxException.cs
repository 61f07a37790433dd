using System.Runtime.InteropServices;

namespace Hyperlane.Linux;

/// <summary>A system call failed: names the operation and the errno.</summary>
public class LinuxException : Exception
{
    public LinuxException(string operation, Errno error)
        : base($"{operation} failed: {error} ({Describe(error)})")
    {
        Operation = operation;
        Error = error;
    }

    public LinuxException()
        : this("system call", Errno.None)
    {
    }

    public LinuxException(string message)
        : base(message)
    {
        Operation = string.Empty;
    }

    public LinuxException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = string.Empty;
    }

    public string Operation { get; } = string.Empty;

    public Errno Error { get; }

    /// <summary>Throws for the errno of the last P/Invoke.</summary>
    public static LinuxException FromLastError(string operation) =>
        new(operation, (Errno)Marshal.GetLastPInvokeError());

    /// <summary>The C library's text for an errno (strerror), e.g. "No such file or directory".</summary>
    public static string Describe(Errno error) => Marshal.GetPInvokeErrorMessage((int)error);
}
