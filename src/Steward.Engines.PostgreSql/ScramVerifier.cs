using System.Security.Cryptography;
using System.Text;

namespace Steward.Engines.PostgreSql;

/// <summary>
/// Computes a PostgreSQL SCRAM-SHA-256 password verifier on the client, the way <c>psql \password</c> does,
/// so the plaintext password never reaches the server (nor its log, should a statement fail).
/// </summary>
internal static class ScramVerifier
{
    private const int Iterations = 4096;

    public static string Compute(string password) => Compute(password, RandomNumberGenerator.GetBytes(16), Iterations);

    /// <summary>The verifier for a given salt and iteration count (known-answer tests use RFC 7677's).</summary>
    internal static string Compute(string password, byte[] salt, int iterations)
    {
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }
}
