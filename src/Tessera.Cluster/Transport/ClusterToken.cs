using System.Security.Cryptography;
using System.Text;

namespace Tessera.Cluster.Transport;

/// <summary>
/// The shared secret every connection proves it knows: HMAC-SHA256 over the handshake nonces, keyed by the token.
/// The token itself never crosses the network.
/// </summary>
public sealed class ClusterToken
{
    public const int MinimumLength = 16;
    private readonly byte[] _key;

    public ClusterToken(string secret)
    {
        secret = secret.Trim();
        if (secret.Length < MinimumLength)
        {
            throw new ArgumentException($"a cluster token must have at least {MinimumLength} characters");
        }

        _key = Encoding.UTF8.GetBytes(secret);
    }

    /// <summary>Reads the token from a file (its whole text, trimmed).</summary>
    public static ClusterToken FromFile(string path)
    {
        string text = File.ReadAllText(path);
        if (text.Trim().Length < MinimumLength)
        {
            throw new InvalidDataException($"token file {path} must hold at least {MinimumLength} characters");
        }

        return new ClusterToken(text);
    }

    /// <summary>A fresh random token (64 hex characters), e.g. for local workers the CLI starts itself.</summary>
    public static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>HMAC-SHA256(token, label || parts...).</summary>
    public byte[] Proof(string label, params ReadOnlySpan<byte[]> parts)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        hmac.AppendData(Encoding.ASCII.GetBytes(label));
        foreach (byte[] part in parts)
        {
            hmac.AppendData(part);
        }

        return hmac.GetHashAndReset();
    }

    /// <summary>Compares a received proof with the expected one in constant time.</summary>
    public static bool Matches(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> received) =>
        CryptographicOperations.FixedTimeEquals(expected, received);
}
