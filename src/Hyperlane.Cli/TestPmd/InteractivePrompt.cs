namespace Hyperlane.Cli.TestPmd;

/// <summary>testpmd's interactive prompt, with the commands users type most.</summary>
public sealed class InteractivePrompt
{
    private readonly TestPmdSession session;
    private readonly TextReader input;
    private readonly TextWriter output;

    public InteractivePrompt(TestPmdSession session, TextReader input, TextWriter output)
    {
        this.session = session;
        this.input = input;
        this.output = output;
    }

    /// <summary>Reads commands until quit, end of input or <paramref name="cancel"/>.</summary>
    public void Run(CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            output.Write("testpmd> ");
            output.Flush();
            string? line = input.ReadLine();
            if (line is null || cancel.IsCancellationRequested)
            {
                output.WriteLine();
                break;
            }

            if (!Execute(line.Trim()))
            {
                break;
            }
        }

        if (session.IsForwarding)
        {
            session.StopForwarding();
        }

        output.WriteLine("Bye...");
    }

    /// <summary>Runs one command; false when it was quit.</summary>
    public bool Execute(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string joined = string.Join(' ', words);
        switch (joined)
        {
            case "":
                return true;
            case "quit":
            case "exit":
                return false;
            case "help":
                output.WriteLine("Commands: start, start tx_first, stop, show port stats all, show port info all,");
                output.WriteLine("          show port xstats all, set fwd <io|mac|macswap|rxonly|txonly|flowgen|icmpecho>,");
                output.WriteLine("          clear port stats all, quit");
                return true;
            case "start":
                session.StartForwarding(txFirst: false);
                return true;
            case "start tx_first":
                session.StartForwarding(txFirst: true);
                return true;
            case "stop":
                session.StopForwarding();
                return true;
            case "show port stats all":
                session.PrintStats();
                return true;
            case "show port info all":
                session.PrintInfo();
                return true;
            case "show port xstats all":
                session.PrintXStats();
                return true;
            case "clear port stats all":
                session.ClearStats();
                return true;
        }

        if (words.Length == 3 && words[0] == "set" && words[1] == "fwd")
        {
            if (!ForwardModes.TryParse(words[2], out var mode))
            {
                output.WriteLine($"Bad arguments: unknown forwarding mode '{words[2]}' (valid: {string.Join(", ", ForwardModes.Names)})");
            }
            else if (session.IsForwarding)
            {
                output.WriteLine("Please stop forwarding first");
            }
            else
            {
                session.SetForwardMode(mode);
                output.WriteLine($"Set {words[2]} packet forwarding mode");
            }

            return true;
        }

        output.WriteLine($"Bad arguments: unknown command '{joined}' (type help)");
        return true;
    }
}
