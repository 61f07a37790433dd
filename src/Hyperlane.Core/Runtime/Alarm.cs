namespace Hyperlane.Core.Runtime;

/// <summary>A one-shot or periodic callback scheduled on a <see cref="ControlThread"/>. Cancel it to stop it.</summary>
public sealed class Alarm
{
    private int cancelled;

    internal Alarm(string name, Action callback, TimeSpan period, long dueTick)
    {
        Name = name;
        Callback = callback;
        Period = period;
        DueTick = dueTick;
    }

    public string Name { get; }

    /// <summary>Zero for a one-shot alarm.</summary>
    public TimeSpan Period { get; }

    public bool IsCancelled => Volatile.Read(ref cancelled) != 0;

    /// <summary>How many times the callback ran.</summary>
    public long Runs { get; internal set; }

    internal Action Callback { get; }

    internal long DueTick { get; set; }

    /// <summary>Stops the alarm; a run in progress finishes.</summary>
    public void Cancel() => Volatile.Write(ref cancelled, 1);
}
