using Tessera.Tensors;

namespace Tessera.Cluster.Transport;

/// <summary>A failure classified by <see cref="ClusterErrorCode"/>; the message is one line meant for users (names a peer sent are quoted with <see cref="UntrustedText"/>).</summary>
public sealed class ClusterException : Exception
{
    public ClusterException(ClusterErrorCode code, string message, Exception? inner = null)
        : base(UntrustedText.OneLine(message), inner)
    {
        Code = code;
    }

    public ClusterErrorCode Code { get; }
}
