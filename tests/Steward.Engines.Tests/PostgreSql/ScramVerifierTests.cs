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

    [Fact]
    public void The_server_binaries_are_found_where_Debian_installs_them()
    {
        var dir = PostgreSqlEngineOptions.DiscoverBinDir().ShouldNotBeNull("install PostgreSQL: apt-get install postgresql-15");
        File.Exists(Path.Combine(dir, "initdb")).ShouldBeTrue();
    }
}
