using System.Data.Common;
using Steward.Security;

namespace Steward.State.Sqlite;

/// <summary>Credentials written by releases from before they were sealed, sealed at start.</summary>
public sealed partial class SqliteStateStore
{
    /// <summary>
    /// Rows written before credentials were sealed: their passwords are sealed in place, and their plaintext API
    /// tokens are dropped for a token derived from the key (the old token stops working; fetching the binding
    /// returns the new one). The write-ahead log is truncated afterwards, so no old page lingers in it.
    /// </summary>
    private async Task SealLegacyCredentialsAsync(DbConnection conn, CancellationToken cancellationToken)
    {
        var instances = await QueryAsync("SELECT id, admin_password FROM instances", r => (Id: r.GetString(0), Password: r.GetString(1)), cancellationToken);
        var bindings = await QueryAsync(
            "SELECT id, instance_id, username, password, api_token, api_token_hash FROM bindings",
            r => (Id: r.GetString(0), Instance: r.GetString(1), User: r.GetString(2), Password: r.GetString(3), Token: Text(r, 4), Hash: Text(r, 5)),
            cancellationToken);
        var updates = new List<(string Sql, (string, object?)[] Args)>();
        foreach (var i in instances.Where(i => !CredentialKey.IsSealed(i.Password)))
        {
            updates.Add(("UPDATE instances SET admin_password = @p WHERE id = @id", [("@p", Key.Seal(i.Password, AdminPasswordContext(i.Id))), ("@id", i.Id)]));
        }

        foreach (var b in bindings)
        {
            var password = CredentialKey.IsSealed(b.Password) ? b.Password : Key.Seal(b.Password, BindingPasswordContext(b.Id));
            var hash = b.Token is null && b.Hash is null ? null : Secrets.TokenHash(Key.ApiToken(b.Instance, b.Id, b.User));
            if (password != b.Password || b.Token is not null || hash != b.Hash)
            {
                updates.Add(("UPDATE bindings SET password = @p, api_token = NULL, api_token_hash = @h WHERE id = @id", [("@p", password), ("@h", hash), ("@id", b.Id)]));
            }
        }

        if (updates.Count == 0)
        {
            return;
        }

        await using (var tx = await conn.BeginTransactionAsync(cancellationToken))
        {
            foreach (var (sql, args) in updates)
            {
                await using var cmd = Command(conn, sql, args);
                cmd.Transaction = tx;
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
        }

        await ExecAsync(conn, "PRAGMA wal_checkpoint(TRUNCATE);", cancellationToken);
    }
}
