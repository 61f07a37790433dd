namespace Hyperlane.Linux;

/// <summary>Identity of the calling process and thread.</summary>
public static class ProcessInfo
{
    public static int ThreadId => LibC.gettid();

    public static int ProcessId => LibC.getpid();

    public static bool IsRoot => LibC.geteuid() == 0;
}
