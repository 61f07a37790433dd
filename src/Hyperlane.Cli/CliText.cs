namespace Hyperlane.Cli;

/// <summary>Turns exceptions into the one line a user reads.</summary>
public static class CliText
{
    /// <summary>The message without .NET's " (Parameter 'name')" suffix, which means nothing to a user.</summary>
    public static string WithoutParameterName(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        string m = ex.Message;
        if (ex is ArgumentException { ParamName: { } p })
        {
            m = m.Replace($" (Parameter '{p}')", string.Empty, StringComparison.Ordinal);
        }

        return m.ReplaceLineEndings(" ");
    }
}
