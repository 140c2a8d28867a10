import { REDACTED, redact, redactMessage } from '../../activities/notify/redact';

describe('redact', () => {
  const secrets: [string, string, string][] = [
    ['OpenAI key', 'export OPENAI_API_KEY=sk-proj-AbCdEf0123456789GhIjKl', 'sk-proj-AbCdEf0123456789GhIjKl'],
    [
      'GitHub classic token',
      'git remote set-url origin https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x/y',
      'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    ],
    [
      'GitHub fine-grained token',
      'token github_pat_11ABCDEFG0123456789_abcdefghijklmnop',
      'github_pat_11ABCDEFG0123456789_abcdefghijklmnop',
    ],
    ['Slack bot token', 'SLACK=xoxb-1234567890-0987654321-AbCdEfGhIjKl', 'xoxb-1234567890-0987654321-AbCdEfGhIjKl'],
    ['AWS access key id', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['Bearer header', 'curl -H "Authorization: Bearer abc.DEF-123_456~xyz" https://api', 'abc.DEF-123_456~xyz'],
    ['hex after key=', 'signing_key=0123456789abcdef0123456789abcdef', '0123456789abcdef0123456789abcdef'],
    ['base64 after token:', '"token": "dGhpcyBpcyBhIHNlY3JldCB0b2tlbg=="', 'dGhpcyBpcyBhIHNlY3JldCB0b2tlbg=='],
    ['secret= in a query', 'https://hooks.example.com/x?secret=Zm9vYmFyYmF6cXV4cXV1eA&a=1', 'Zm9vYmFyYmF6cXV4cXV1eA'],
    ['short password', 'DB_PASSWORD=hunter2', 'hunter2'],
    ['URL credentials', 'postgres://admin:s3cr3tPass@db:5432/app', 's3cr3tPass'],
    [
      'JWT',
      'id_token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ],
  ];

  test.each(secrets)('%s is replaced', (_name, text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  test('keeps the label in front of a secret so the reader sees what was there', () => {
    expect(redact('Authorization: Bearer abcdefghijklmnop')).toBe('Authorization: Bearer [redacted]');
    expect(redact('api_key=0123456789abcdef0123456789abcdef')).toBe('api_key=[redacted]');
  });

  test('a PEM private key block goes entirely, a cut-off one to the end of the text', () => {
    const pem = [
      '-----BEGIN RSA PRIVATE KEY-----',
      'MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF0',
      'qnQm8Tq',
      '-----END RSA PRIVATE KEY-----',
    ].join('\n');
    expect(redact(`before\n${pem}\nafter`)).toBe(`before\n${REDACTED}\nafter`);
    expect(redact('key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA')).toBe(`key:\n${REDACTED}`);
  });

  test('leaves ordinary prose and short values alone', () => {
    const prose = 'The token is valid; set key: name and run npm test in /work/project (task fix-tests, 42 tests).';
    expect(redact(prose)).toBe(prose);
  });

  test('is idempotent', () => {
    const once = redact('Bearer abcdefghijklmnop and sk-abcdefghijklmnopqrstuv');
    expect(redact(once)).toBe(once);
  });

  test('redactMessage covers title, text, fields and excerpt', () => {
    const secret = 'sk-abcdefghijklmnopqrstuvwxyz';
    const m = redactMessage({
      kind: 'completion',
      taskId: 't',
      turn: 1,
      title: `title ${secret}`,
      text: `text ${secret}`,
      fields: [{ label: 'Directory', value: `/tmp/${secret}` }],
      url: null,
      excerpt: `excerpt ${secret}`,
    });
    expect(JSON.stringify(m)).not.toContain(secret);
  });
});
