using System.CommandLine;
using Tessera.Cluster.Transport;

namespace Tessera.Cli.Common;

/// <summary>The --tls-cert/--tls-key/--tls-ca options of every command that talks to workers, and what they load.</summary>
internal sealed class TlsOptions
{
    private readonly Option<string?> _certificate = new("--tls-cert") { Description = "TLS on every cluster connection: this node's certificate (PEM); the same file on every node, or one per node with --tls-ca" };
    private readonly Option<string?> _key = new("--tls-key") { Description = "with --tls-cert: its private key (PEM)" };
    private readonly Option<string?> _ca = new("--tls-ca") { Description = "with --tls-cert: the CA certificates (PEM) a peer's certificate must chain to (default: --tls-cert itself)" };

    public IEnumerable<Option> All => [_certificate, _key, _ca];

    /// <summary>The TLS settings given, or null when none; one-line errors for half-given or unreadable ones.</summary>
    public ClusterTls? Read(ParseResult parse)
    {
        string? certificate = parse.GetValue(_certificate), key = parse.GetValue(_key), ca = parse.GetValue(_ca);
        if (certificate is null)
        {
            return key is null && ca is null ? null : throw new CliException("--tls-key and --tls-ca go with --tls-cert");
        }

        if (key is null)
        {
            throw new CliException("--tls-cert needs --tls-key, the certificate's private key");
        }

        try
        {
            return ClusterTls.FromPemFiles(certificate, key, ca);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }
}
