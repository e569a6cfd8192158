import { CronError, SCHEDULE_PATTERN, parseCron } from '../../../src/api/cron.js';
import { cronToOnCalendar } from '../../../src/render/index.js';

describe('cronToOnCalendar', () => {
  it.each([
    ['* * * * *', ['*-*-* *:*:00']],
    ['0 * * * *', ['*-*-* *:00:00']],
    ['15 */2 * * *', ['*-*-* 00..22/2:15:00']],
    ['*/15 9-17 * * MON-FRI', ['Mon..Fri *-*-* 09..17:00..45/15:00']],
    ['0 0 1 * *', ['*-*-01 00:00:00']],
    ['0 0 * * 0', ['Sun *-*-* 00:00:00']],
    ['0 0 * * 5-6', ['Fri,Sat *-*-* 00:00:00']],
    ['0 0 * * sun,sat', ['Sat,Sun *-*-* 00:00:00']],
    ['0 12 1 jan,Jul *', ['*-01,07-01 12:00:00']],
    ['0 0 1,15 * 1', ['*-*-01,15 00:00:00', 'Mon *-*-* 00:00:00']],
    ['0 0 */2 * 1', ['*-*-01..31/2 00:00:00', 'Mon *-*-* 00:00:00']],
    ['0 0 ? * 1', ['Mon *-*-* 00:00:00']],
    ['0 0 1 * 0-6', ['*-*-* 00:00:00']],
    ['5,10-12,30 0 * * *', ['*-*-* 00:05,10..12,30:00']],
    ['10-40/10 * * * *', ['*-*-* *:10..40/10:00']],
    ['7/20 * * * *', ['*-*-* *:07..47/20:00']],
    ['*/7 * * * *', ['*-*-* *:00..56/7:00']],
    ['*/60 * * * *', ['*-*-* *:00:00']],
    ['*/45 */13 * * *', ['*-*-* 00,13:00,45:00']],
    ['? ? ? ? ?', ['*-*-* *:*:00']],
    ['007 7 * * *', ['*-*-* 07:07:00']],
    ['0 0 1 */3 *', ['*-01..10/3-01 00:00:00']],
    ['@hourly', ['*-*-* *:00:00']],
    ['@daily', ['*-*-* 00:00:00']],
    ['@midnight', ['*-*-* 00:00:00']],
    ['@weekly', ['Sun *-*-* 00:00:00']],
    ['@monthly', ['*-*-01 00:00:00']],
    ['@yearly', ['*-01-01 00:00:00']],
    ['  0   3 * * *  ', ['*-*-* 03:00:00']],
  ])('%j -> %j', (expr, expected) => {
    expect(cronToOnCalendar(expr)).toEqual(expected);
  });

  it('appends the time zone to every expression', () => {
    expect(cronToOnCalendar('0 0 1 * 1', 'Europe/Berlin')).toEqual(['*-*-01 00:00:00 Europe/Berlin', 'Mon *-*-* 00:00:00 Europe/Berlin']);
  });

  it.each([
    ['61 * * * *', "schedule: minute field '61' out of range 0-59"],
    ['* 24 * * *', "schedule: hour field '24' out of range 0-23"],
    ['* * 0 * *', "schedule: day-of-month field '0' out of range 1-31"],
    ['* * * 13 *', "schedule: month field '13' out of range 1-12"],
    ['* * * * 8', "schedule: day-of-week field '8' out of range 0-6"],
    ['0 0 * * 7', "schedule: day-of-week field '7' out of range 0-6"],
    ['0 0 * * 5-7', "schedule: day-of-week field '7' out of range 0-6"],
    ['@DAILY', "schedule: '@DAILY' is not a supported descriptor"],
    ['@every 1h', "schedule: '@every 1h' is not a supported descriptor"],
    ['*/1000000000 * * * *', "schedule: minute field '*/1000000000': step must be at most 999999999"],
    ['* * * foo *', "schedule: month field 'foo' is not a valid value (a number 1-12 or JAN-DEC)"],
    ['* * * * *,', "schedule: day-of-week field '*,' has an empty list item"],
    ['* * * *', 'schedule: must have 5 fields (minute hour day-of-month month day-of-week), got 4'],
    ['* * * * * *', 'schedule: must have 5 fields (minute hour day-of-month month day-of-week), got 6'],
    ['', 'schedule: must have 5 fields'],
    ['*/0 * * * *', "schedule: minute field '*/0': step must be at least 1"],
    ['*/x * * * *', "schedule: minute field '*/x': step 'x' is not a number"],
    ['30-10 * * * *', "schedule: minute field '30-10': range start is after its end"],
    ['0 0 30 2 *', 'schedule: never fires: day-of-month 30 does not occur in month 2'],
    ['0 0 31 4,6,9,11 *', 'schedule: never fires: day-of-month 31 does not occur in month 4,6,9,11'],
    ['@reboot', "schedule: '@reboot' is not a supported descriptor"],
    ['* * * * * ; rm', 'schedule: '],
    ['TZ=UTC * * * * *', 'schedule: '],
  ])('%j is refused: %s', (expr, message) => {
    expect(() => cronToOnCalendar(expr)).toThrow(CronError);
    expect(() => cronToOnCalendar(expr)).toThrow(message);
  });

  it('refuses a time zone that is not an IANA name', () => {
    expect(() => cronToOnCalendar('* * * * *', 'Europe/Berlin\nExecStart=/x', 'spec.units[0].schedule')).toThrow(
      /^spec\.units\[0\]\.timeZone: /,
    );
  });

  it('names the field it is given', () => {
    expect(() => parseCron('99 * * * *', 'spec.units[2].schedule')).toThrow("spec.units[2].schedule: minute field '99' out of range 0-59");
  });

  it('allows a day-of-month without a month that has it when day-of-week is restricted (cron OR rule)', () => {
    expect(cronToOnCalendar('0 0 30 2 mon')).toEqual(['*-02-30 00:00:00', 'Mon *-02-* 00:00:00']);
  });

  it('uses the Kubernetes CronJob (robfig/cron) star rule: */2 counts as restricted', () => {
    expect(parseCron('0 0 */2 * 1')).toMatchObject({ domStar: false, dowStar: false });
    expect(parseCron('0 0 */1 * 1')).toMatchObject({ domStar: true, dowStar: false });
  });
});

describe('SCHEDULE_PATTERN (the CRD CEL regex, compiled as JS)', () => {
  const re = new RegExp(SCHEDULE_PATTERN);
  it.each([
    '* * * * *',
    '15 */2 * * *',
    '*/15 9-17 * * MON-FRI',
    '0 0 1,15 * 1',
    '0 12 1 jan,Jul *',
    '0 0 ? * 6',
    '? ? ? ? ?',
    '*/60 */25 * * *',
    '0 0 * feb-Mar sun',
    '@daily',
    '@hourly',
    '10-40/10 * * * *',
  ])('accepts %j', (expr) => {
    expect(re.test(expr)).toBe(true);
    expect(() => parseCron(expr)).not.toThrow();
  });
  it.each([
    '61 * * * *',
    '* 24 * * *',
    '* * 32 * *',
    '* * * 13 *',
    '* * * * 8',
    '0 0 * * 7',
    '@DAILY',
    '@Hourly',
    '@every 1h',
    '* * * *',
    '@reboot',
    '* * * * * x',
    'a b c d e',
    '* * * * *\n',
  ])('rejects %j (as parseCron does)', (expr) => {
    expect(re.test(expr)).toBe(false);
    expect(() => parseCron(expr)).toThrow(CronError);
  });
});
