namespace Hyperlane.Linux.Netlink;

/// <summary>The verdict of a generic action (act_gact, linux/tc_act/tc_gact.h) on a matched packet.</summary>
public enum GactAction
{
    /// <summary>Drop the packet (TC_ACT_SHOT; tc's <c>action drop</c>).</summary>
    Drop,

    /// <summary>Let the packet go on (TC_ACT_OK; tc's <c>action pass</c>): classification ends, nothing is done to it.</summary>
    Pass,
}
