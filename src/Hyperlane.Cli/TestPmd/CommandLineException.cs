namespace Hyperlane.Cli.TestPmd;

/// <summary>The command line is wrong; the message says what, in one line.</summary>
public sealed class CommandLineException : Exception
{
    public CommandLineException(string message)
        : base(message)
    {
    }

    public CommandLineException()
    {
    }

    public CommandLineException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
