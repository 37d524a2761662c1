import { describe, expect, it } from 'vitest';
import { RedisPermissionError } from '@brook/broker';
import { translateRedisError } from '../../../libs/broker/src/redis/connection.js';
import { BROOK_HTTP_ERRORS } from '@brook/nest-adapter';

const translate = (message: string) => translateRedisError(new Error(message), 'list topics', 'redis://127.0.0.1:7000', 3);

describe('Redis ACL refusals', () => {
  it("turn a NOPERM reply into RedisPermissionError naming the refused command and the fix", () => {
    const error = translate("NOPERM User brook has no permissions to run the 'hgetall' command");
    expect(error).toBeInstanceOf(RedisPermissionError);
    expect(error).toMatchObject({ code: 'NO_PERMISSION', retriable: false, command: 'hgetall' });
    expect(error.message).toContain("Could not list topics: the Redis user may not run 'hgetall'");
    expect(error.message).toContain('brookAclRules(prefix)');
  });

  it('turn a refused key, and a refusal inside a script (which names no command), into RedisPermissionError', () => {
    for (const message of [
      'NOPERM this user has no permissions to access one of the keys used as arguments',
      "ERR The user executing the script can't run this command or subcommand script: e388a2e9, on @user_script:135.",
      "ERR The user executing the script can't access at least one of the keys mentioned in the command script: e388a2e9, on @user_script:12.",
    ]) {
      const error = translate(message);
      expect(error).toBeInstanceOf(RedisPermissionError);
      expect(error).toMatchObject({ code: 'NO_PERMISSION', retriable: false, command: undefined });
    }
  });

  it("are answered by the broker host with 503: the host's deployment, not the request, is at fault", () => {
    expect(BROOK_HTTP_ERRORS.NO_PERMISSION.status).toBe(503);
  });
});
