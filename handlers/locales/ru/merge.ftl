# /merge N M in an agency chat: two appeals about the same problem become one.

merge-usage = Напишите номера двух обращений: /merge N M — жители обращения M присоединятся к обращению N, а M будет закрыто.
merge-refuse-finished = Обращение № { $number } уже { $status }: объединять с ним нельзя.
merge-refuse-not-open = Обращение № { $number } в статусе «{ $status }»: объединить можно только обращение, которое ждёт ведомства.
merge-done =
    Обращение № { $number } объединено с № { $into } и закрыто. { $moved ->
        [one] { $moved } житель теперь следит
        [few] { $moved } жителя теперь следят
       *[many] { $moved } жителей теперь следят
    } за № { $into }.
merge-card-final = 🔗 Объединено с обращением № { $into }: та же проблема.
merge-notice-author = Ваше обращение № { $number } объединено с обращением № { $into } о той же проблеме. Уведомления и ответ ведомства по № { $into } придут сюда.
merge-notice-follower = Обращение № { $number }, к которому вы присоединились, объединено с обращением № { $into } о той же проблеме. Уведомления и ответ ведомства по № { $into } придут сюда.
desk-event-merged = объединено с другим обращением и закрыто
desk-event-merged_in = к обращению присоединены жители другого обращения
