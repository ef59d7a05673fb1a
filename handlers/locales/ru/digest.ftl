# The weekly digest, /digest and /stats (digests/). Counts arrive already formatted
# ("1 169" with a narrow no-break space) as *_text; the plain numbers only pick plural forms.

digest-title = 📊 <b>Обращения жителей { $period }</b>
digest-preview-note = <i>Неделя ещё не закончилась: цифры на сегодня.</i>
digest-empty = Обращений за этот период не поступало.

digest-received = Поступило обращений: <b>{ $count }</b> ({ $change })
digest-passed = Передано в ведомства: <b>{ $count }</b> ({ $change })
digest-review = Ответов проверено центром управления регионом: <b>{ $count_text }</b>, медиана проверки — { $median } (не входит во время ответа ведомств).
digest-problems = Это <b>{ $problems_text } { $problems ->
    [one] проблема
    [few] проблемы
   *[many] проблем
}</b> от <b>{ $residents_text } { $residents ->
    [one] жителя
   *[other] жителей
}</b>: жители присоединялись к обращениям о том же.
digest-most-joined-header = <b>Больше всего жителей за неделю</b>
digest-most-joined-line = { $place }. № { $number } — { $title }: { $residents_text } { $residents ->
    [one] житель
    [few] жителя
   *[many] жителей
}
digest-declined = Отклонено при проверке: <b>{ $count }</b> ({ $change })

digest-vs-week = { $change } к прошлой неделе
digest-vs-period = { $change } к предыдущему периоду
digest-vs-week-zero = неделей ранее — ни одного
digest-vs-period-zero = в предыдущем периоде — ни одного

digest-change-up = +{ $percent } %
digest-change-down = −{ $percent } %
digest-change-same = ±0 %
digest-change-new = ранее не было

digest-main-topic = Главная тема — <b>«{ $title }»</b>: { $count_text } { $count ->
    [one] обращение
    [few] обращения
   *[many] обращений
}.
digest-topics-header = <b>Самые частые темы</b>
digest-topic-line = { $place }. { $title } — { $count } ({ $change })

digest-answers = Первый ответ получили <b>{ $share } %</b> обращений. Время первого ответа: медиана — { $median }, в среднем — { $mean }.
digest-answers-none = Первых ответов на эти обращения пока нет.
digest-solved = Решено: <b>{ $share } %</b> обращений.
digest-share = <b>{ $share } %</b>
digest-on-time = В срок: первый ответ — { $first }, ответ по существу — { $answer } (из тех, чей срок истёк или кому уже ответили).
digest-overdue-open = Сейчас просрочено: <b>{ $count_text }</b> { $count ->
    [one] обращение
    [few] обращения
   *[many] обращений
}.
digest-rating = Средняя оценка жителей: <b>{ $rating }</b> из 5 ({ $count_text } { $count ->
    [one] оценка
    [few] оценки
   *[many] оценок
}).
digest-confirmed = Жители подтвердили решение по <b>{ $share } %</b> обращений с ответом.

digest-municipalities-header = <b>Обращений на 1 000 жителей</b>
digest-municipality-line = { $place }. { $name } — { $rate }
digest-municipalities-note = <i>Муниципалитеты, где меньше { $minimum } { $minimum ->
    [one] обращения
   *[other] обращений
}, не ранжируются.</i>

digest-fastest-header = <b>Быстрее всех отвечают</b>
digest-slowest-header = <b>Дольше всех отвечают</b>
digest-agency-line = { $place }. { $name } — медиана { $median }, ответ на { $share } %
digest-agency-line-silent = { $place }. { $name } — ни одного ответа на { $received_text } { $received ->
    [one] обращение
    [few] обращения
   *[many] обращений
}
digest-agencies-note = <i>В рейтинге ведомства, получившие не меньше { $minimum } { $minimum ->
    [one] обращения
   *[other] обращений
}.</i>

digest-duration-instant = меньше минуты

digest-period-day = за { $day }
digest-period-span = с { $first } по { $last }

digest-chart-topics = Главные темы
digest-chart-days = Обращения по дням
digest-chart-on-time = первый ответ в срок
digest-chart-no-appeals = Обращений не было
digest-chart-empty = С { $first } по { $last } обращений не было
digest-chart-current-week = эта неделя
digest-chart-previous-week = прошлая неделя
digest-chart-current-period = этот период
digest-chart-previous-period = предыдущий период

digest-stats-usage = Команда /stats показывает цифры дайджеста за любой период:
    /stats — эта неделя
    /stats 2026-W47 — неделя по номеру
    /stats 2026-11-01 2026-11-15 — с первого дня по последний включительно (не больше { $max_days } дней)
