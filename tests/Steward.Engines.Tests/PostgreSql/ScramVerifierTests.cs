using System.Security.Cryptography;
using System.Text;
using Steward.Engines.PostgreSql;

namespace Steward.Engines.Tests.PostgreSql;

public sealed class ScramVerifierTests
{
    [Fact]
    public void The_verifier_has_PostgreSQLs_format_and_never_contains_the_password()
    {
        var verifier = ScramVerifier.Compute("s3cret-password");
        verifier.ShouldMatch(@"^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$");
        verifier.ShouldNotContain("s3cret");
    }

    [Fact]
    public void Each_verifier_gets_its_own_salt()
    {
        ScramVerifier.Compute("same").ShouldNotBe(ScramVerifier.Compute("same"));
    }

    [Fact]
    public void The_stored_key_is_the_hash_of_the_client_key_derived_from_the_password_and_salt()
    {
        // RFC 5802: SaltedPassword = PBKDF2(password, salt, i); StoredKey = H(HMAC(SaltedPassword, "Client Key")).
        var verifier = ScramVerifier.Compute("pw");
        var parts = verifier.Split('$', ':');
        var salt = Convert.FromBase64String(parts[2]);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes("pw"), salt, 4096, HashAlgorithmName.SHA256, 32);
        var stored = SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8));
        Convert.ToBase64String(stored).ShouldBe(parts[3]);
        Convert.ToBase64String(HMACSHA256.HashData(salted, "Server Key"u8)).ShouldBe(parts[4]);
    }

    /// <summary>
    /// RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations. A server
    /// holding the verifier must accept the RFC's client proof and answer the RFC's server signature.
    /// </summary>
    [Fact]
    public void The_verifier_accepts_the_client_proof_and_gives_the_server_signature_of_RFC_7677()
    {
        const string Nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        var verifier = ScramVerifier.Compute("pencil", Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        verifier.ShouldStartWith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$");
        var parts = verifier.Split('$', ':');
        var storedKey = Convert.FromBase64String(parts[3]);
        var serverKey = Convert.FromBase64String(parts[4]);
        var authMessage = Encoding.UTF8.GetBytes($"n=user,r=rOprNGfwEbeRWgbNEkqO,r={Nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r={Nonce}");

        // Server side of RFC 5802 section 3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) == StoredKey.
        var proof = Convert.FromBase64String("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        var signature = HMACSHA256.HashData(storedKey, authMessage);
        var clientKey = proof.Zip(signature, (a, b) => (byte)(a ^ b)).ToArray();
        SHA256.HashData(clientKey).ShouldBe(storedKey, "the RFC's client proof must be accepted");
        Convert.ToBase64String(HMACSHA256.HashData(serverKey, authMessage)).ShouldBe("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    [Fact]
    public void The_server_binaries_are_found_where_Debian_installs_them()
    {
        var dir = PostgreSqlEngineOptions.DiscoverBinDir().ShouldNotBeNull("install PostgreSQL: apt-get install postgresql-15");
        File.Exists(Path.Combine(dir, "initdb")).ShouldBeTrue();
    }
}
