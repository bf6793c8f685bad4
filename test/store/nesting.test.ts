/** Where stores refuse nested transactions (see src/store/nesting.ts): tests and opt-in, not production. */
import { NestingGuard, nestingChecked } from '../../src/store/nesting';

test('the nesting check is on under test or ONEHAND_CHECK_NESTING=1, and off otherwise', () => {
  expect(nestingChecked({ NODE_ENV: 'test' })).toBe(true);
  expect(nestingChecked({ ONEHAND_CHECK_NESTING: '1' })).toBe(true);
  expect(nestingChecked({ NODE_ENV: 'production' })).toBe(false);
  expect(nestingChecked({})).toBe(false);
  expect(nestingChecked()).toBe(true); // jest sets NODE_ENV=test: every store test checks nesting
});

test('a guard refuses a call from inside an open transaction only, through awaits', async () => {
  const guard = new NestingGuard<{ isOpen(): boolean }>('TestStore', true);
  let open = true;
  const tx = { isOpen: () => open };
  await guard.within(tx, async () => {
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => guard.refuse('transaction')).toThrow('TestStore.transaction called inside a transaction: use the StoreTx you were given');
    open = false;
    expect(() => guard.refuse('transaction')).not.toThrow();
  });
  expect(() => guard.refuse('transaction')).not.toThrow();
  const off = new NestingGuard<{ isOpen(): boolean }>('TestStore', false);
  expect(off.checking).toBe(false);
  await off.within({ isOpen: () => true }, async () => expect(() => off.refuse('transaction')).not.toThrow());
});
