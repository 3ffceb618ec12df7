/* office_calendar: the 2024 office calendar of the unit tests (see office_calendar.h). */
#include "office_calendar.h"

struct calendar *office_calendar_2024(struct err *err)
{
	static const int official_years[] = { 2024 };
	static const struct {
		int y, m, d;
		enum calendar_day_kind kind;
	} days[] = {
		{ 2024, 1, 1, CALENDAR_OFF },  { 2024, 2, 8, CALENDAR_OFF },
		{ 2024, 2, 9, CALENDAR_OFF },  { 2024, 2, 12, CALENDAR_OFF },
		{ 2024, 2, 13, CALENDAR_OFF }, { 2024, 2, 14, CALENDAR_OFF },
		{ 2024, 4, 18, CALENDAR_OFF }, { 2024, 4, 29, CALENDAR_OFF },
		{ 2024, 4, 30, CALENDAR_OFF }, { 2024, 5, 1, CALENDAR_OFF },
		{ 2024, 5, 4, CALENDAR_WORK }, { 2024, 9, 2, CALENDAR_OFF },
		{ 2024, 9, 3, CALENDAR_OFF },
	};
	struct calendar_exception ex[sizeof(days) / sizeof(days[0])];
	struct calendar_config cfg = {
		.timezone = "Asia/Ho_Chi_Minh",
		.week_mask = 0x3e, /* Monday to Friday */
		.periods = { { 7 * 60 + 30, 11 * 60 + 30 }, { 13 * 60, 17 * 60 } },
		.nperiods = 2,
		.statutory_holidays = true,
		.exceptions = ex,
		.nexceptions = sizeof(ex) / sizeof(ex[0]),
		.official_years = official_years,
		.nofficial_years = 1,
	};

	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		ex[i] = (struct calendar_exception){ civil_to_days(days[i].y, days[i].m, days[i].d),
						     days[i].kind, NULL };
	return calendar_new(&cfg, err);
}
