namespace Tessera.Cluster.Transport.Messages;

/// <summary>What a COLLECTIVE frame carries (u8 on the wire; only appended to).</summary>
public enum CollectiveKind : byte
{
    /// <summary>The sender's block of one collective (key) of a group run.</summary>
    Block = 0,

    /// <summary>The sender gave up on the group run (its stage failed): receivers stop waiting for it.</summary>
    Abort = 1,
}
